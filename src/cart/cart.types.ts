/** Why a cart line cannot be ordered as it is. */
export type CartLineProblem = 'UNKNOWN_SKU' | 'INACTIVE';

export interface CartLineView {
  sku: string;
  quantity: number;
  /** From the catalog at read time; null when the SKU no longer exists. */
  productId: string | null;
  productName: string | null;
  unitPrice: number | null;
  lineTotal: number | null;
  currency: string | null;
  /** False when the variant was deleted or its product deactivated: `problem` says which. */
  available: boolean;
  problem: CartLineProblem | null;
}

export interface CartView {
  items: CartLineView[];
  /** Sum of the available lines; null when empty or when they mix currencies. */
  subtotal: { amount: number; currency: string } | null;
  totalQuantity: number;
  /** Every line available, one currency, at least one line: checkout will take it. */
  orderable: boolean;
}
