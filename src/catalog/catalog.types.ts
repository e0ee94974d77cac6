import type { ListingItem } from './listing-query';

export type ProductStatus = 'draft' | 'active' | 'archived';

/** What orders need to price a line: authoritative (read on the primary). */
export interface VariantPrice {
  sku: string;
  productId: string;
  productName: string;
  price: number;
  currency: string;
  /** The product is active (orderable). */
  active: boolean;
  /** The product's own category (tax rates per category use it). */
  categoryId?: string | null;
  /** That category and its ancestors (coupon restrictions match any of them). */
  categoryIds?: string[];
}

export interface VariantInput {
  sku: string;
  price: number;
  currency: string;
  stockOnHand?: number;
}

export interface CreateProductInput {
  name: string;
  slug?: string;
  description?: string;
  brand?: string;
  categoryId?: string;
  attributes?: Record<string, unknown>;
  status?: ProductStatus;
  variants: VariantInput[];
}

export type UpdateProductInput = Partial<Omit<CreateProductInput, 'variants'>> & {
  variants?: VariantInput[];
};

export interface ProductDetail {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  brand: string | null;
  categoryId: string | null;
  attributes: Record<string, unknown>;
  status: ProductStatus;
  createdAt: string;
  variants: { sku: string; price: number; currency: string }[];
}

export interface CategoryNode {
  id: string;
  parentId: string | null;
  name: string;
  slug: string;
  children: CategoryNode[];
}

/** A category row without its children (the service builds the tree). */
export type CategoryRecord = Omit<CategoryNode, 'children'>;

/** One page of the product listing. */
export interface ListingPage {
  items: ListingItem[];
  nextCursor: string | null;
}
