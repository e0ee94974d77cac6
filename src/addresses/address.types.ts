/** A postal address as a customer gives it (the address book's fields, and an order's copy). */
export interface PostalAddress {
  fullName: string;
  company?: string | null;
  line1: string;
  line2?: string | null;
  city: string;
  region?: string | null;
  postalCode: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  phone?: string | null;
}

/** An entry of the address book. */
export interface AddressView extends PostalAddress {
  id: string;
  isDefault: boolean;
  createdAt: string;
}

/** The most addresses one customer may keep. */
export const MAX_ADDRESSES_PER_USER = 20;
