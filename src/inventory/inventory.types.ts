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

/** A SKU whose available stock just went below its threshold (threshold read later if unknown). */
export interface LowStockCrossing {
  sku: string;
  available: number;
  lowStockThreshold?: number;
}
