export interface TaxRateView {
  id: string;
  country: string;
  /** null: the country's standard rate (also used for shipping and for products of other categories). */
  categoryId: string | null;
  name: string;
  /** Basis points: 1900 = 19 %. */
  rateBp: number;
}

export interface TaxRateInput {
  country: string;
  categoryId?: string | null;
  name: string;
  rateBp: number;
}

/** One taxable amount: a line (after its discount) or the shipping charge. */
export interface Taxable {
  amount: number;
  /** The product's own category (most specific); undefined for shipping. */
  categoryId?: string | null;
}

export interface TaxedAmount {
  rateBp: number;
  tax: number;
}
