export interface ShippingMethodView {
  id: string;
  code: string;
  name: string;
  /** Minor units. */
  price: number;
  currency: string;
  /** The order ships free when its goods (after discount) cost at least this; null = never. */
  freeAbove: number | null;
  countries: string[];
  active: boolean;
}

export interface ShippingMethodInput {
  code: string;
  name: string;
  price: number;
  currency: string;
  freeAbove?: number | null;
  countries: string[];
  active?: boolean;
}

/** What an order is charged for shipping (copied onto the order). */
export interface ShippingCharge {
  code: string;
  name: string;
  /** Minor units: 0 when the free threshold was reached. */
  amount: number;
  currency: string;
}
