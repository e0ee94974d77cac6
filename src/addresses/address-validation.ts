import { isCountryCode } from '../common/countries';
import { AddressInvalidError } from './addresses.errors';
import type { PostalAddress } from './address.types';

/** Field limits (the columns of the addresses table and of an order's copy). */
export const ADDRESS_LIMITS = {
  fullName: 100,
  company: 100,
  line1: 200,
  line2: 200,
  city: 100,
  region: 100,
  postalCode: 20,
  phone: 30,
} as const;

const REQUIRED = ['fullName', 'line1', 'city', 'postalCode', 'country'] as const;
const POSTAL = /^[A-Za-z0-9][A-Za-z0-9 -]{0,18}[A-Za-z0-9]$|^[A-Za-z0-9]$/;
const PHONE = /^\+?[0-9][0-9 ()./-]{3,28}[0-9]$/;
// Control characters (line breaks included: labels are printed one field per line).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Checks and normalizes an address (trims, upper-cases country and postal code, empty optional
 * fields become null). Throws 422 ADDRESS_INVALID naming every problem. Used for the address
 * book and for an address given inline with an order (REST and gRPC alike).
 */
export function normalizeAddress(input: Partial<Record<keyof PostalAddress, unknown>>): PostalAddress {
  const problems: { field: string; problem: string }[] = [];
  const text = (field: keyof typeof ADDRESS_LIMITS, required: boolean): string | null => {
    const raw = input[field];
    if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
      if (required) problems.push({ field, problem: 'is required' });
      return null;
    }
    if (typeof raw !== 'string') {
      problems.push({ field, problem: 'must be a string' });
      return null;
    }
    const v = raw.trim().replace(/\s+/g, ' ');
    if (v.length > ADDRESS_LIMITS[field])
      problems.push({ field, problem: `must be at most ${ADDRESS_LIMITS[field]} characters` });
    else if (CONTROL.test(v)) problems.push({ field, problem: 'must not contain control characters' });
    return v;
  };
  const out: PostalAddress = {
    fullName: text('fullName', true) ?? '',
    company: text('company', false),
    line1: text('line1', true) ?? '',
    line2: text('line2', false),
    city: text('city', true) ?? '',
    region: text('region', false),
    postalCode: (text('postalCode', true) ?? '').toUpperCase(),
    country: typeof input.country === 'string' ? input.country.trim().toUpperCase() : '',
    phone: text('phone', false),
  };
  if (!out.country) problems.push({ field: 'country', problem: 'is required' });
  else if (!isCountryCode(out.country))
    problems.push({ field: 'country', problem: 'must be an ISO 3166-1 alpha-2 code (e.g. DE, FR, US)' });
  if (out.postalCode && !problems.some((p) => p.field === 'postalCode') && !POSTAL.test(out.postalCode))
    problems.push({ field: 'postalCode', problem: 'must be letters, digits, spaces or dashes' });
  if (out.phone && !problems.some((p) => p.field === 'phone') && !PHONE.test(out.phone))
    problems.push({ field: 'phone', problem: 'must be a phone number (digits, optional +, spaces, dashes)' });
  for (const f of REQUIRED)
    if (out[f] === '' && !problems.some((p) => p.field === f))
      problems.push({ field: f, problem: 'is required' });
  if (problems.length) throw new AddressInvalidError(problems);
  return out;
}
