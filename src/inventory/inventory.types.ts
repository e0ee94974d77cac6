export interface StockLine {
  sku: string;
  quantity: number;
}

export interface StockView {
  sku: string;
  onHand: number;
  reserved: number;
  /** onHand - reserved */
  available: number;
  lowStockThreshold: number;
}
