/**
 * What one order may hold; a cart holds no more than one order can take. Shared by orders and
 * the cart (which must not depend on each other).
 */
export const MAX_ORDER_LINES = 50;
export const MAX_LINE_QUANTITY = 1000;
export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
