import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import { isUuid } from '../common/uuid';
import { DbRouter } from '../infra/database/db-router.service';
import { normalizeAddress } from './address-validation';
import { AddressView, MAX_ADDRESSES_PER_USER, PostalAddress } from './address.types';
import { AddressBookFullError, AddressNotFoundError } from './addresses.errors';
import { AddressesRepository } from './addresses.repository';

export type AddressInput = Partial<Record<keyof PostalAddress, unknown>>;

/** The address book: at most MAX_ADDRESSES_PER_USER per customer, exactly one default when any exist. */
@Injectable()
export class AddressesService {
  constructor(
    private readonly db: DbRouter,
    private readonly repo: AddressesRepository,
  ) {}

  list(userId: string): Promise<AddressView[]> {
    return this.repo.list(userId);
  }

  async get(userId: string, id: string): Promise<AddressView> {
    const found = isUuid(id) ? await this.repo.findFresh(userId, id) : undefined;
    if (!found) throw new AddressNotFoundError(id);
    return found;
  }

  /** The postal fields of one of the user's addresses: what an order copies (404 ADDRESS_NOT_FOUND). */
  async postalAddress(userId: string, id: string): Promise<PostalAddress> {
    const { id: _id, isDefault: _isDefault, createdAt: _createdAt, ...postal } = await this.get(userId, id);
    return postal;
  }

  /** The user's default address, if any (flash-sale orders ship there). */
  defaultsOf(userIds: string[]): Promise<Map<string, AddressView>> {
    return this.repo.defaultsOf([...new Set(userIds)]);
  }

  /** The first address, or one created with `isDefault`, becomes the default. */
  async create(userId: string, input: AddressInput & { isDefault?: boolean }): Promise<AddressView> {
    const address = normalizeAddress(input);
    const id = newId();
    return this.db.transaction(async (em) => {
      // One change of a customer's book at a time: the cap and the one default hold.
      await this.repo.lockBook(em, userId);
      const n = await this.repo.count(em, userId);
      if (n >= MAX_ADDRESSES_PER_USER) throw new AddressBookFullError(MAX_ADDRESSES_PER_USER);
      await this.repo.insert(em, id, userId, address, n === 0);
      if (input.isDefault && n > 0) await this.repo.setDefault(em, userId, id);
      return (await this.repo.findIn(em, userId, id))!;
    });
  }

  /** Replaces the given fields; `isDefault: true` makes it the default (false is ignored: one default always). */
  async update(
    userId: string,
    id: string,
    patch: AddressInput & { isDefault?: boolean },
  ): Promise<AddressView> {
    if (!isUuid(id)) throw new AddressNotFoundError(id);
    return this.db.transaction(async (em) => {
      await this.repo.lockBook(em, userId);
      const current = await this.repo.findIn(em, userId, id);
      if (!current) throw new AddressNotFoundError(id);
      const { isDefault, ...fields } = patch;
      if (Object.values(fields).some((v) => v !== undefined)) {
        const merged = normalizeAddress({ ...current, ...dropUndefined(fields) });
        await this.repo.update(em, userId, id, merged);
      }
      if (isDefault) await this.repo.setDefault(em, userId, id);
      return (await this.repo.findIn(em, userId, id))!;
    });
  }

  async delete(userId: string, id: string): Promise<void> {
    if (!isUuid(id)) throw new AddressNotFoundError(id);
    await this.db.transaction(async (em) => {
      await this.repo.lockBook(em, userId);
      if (!(await this.repo.delete(em, userId, id))) throw new AddressNotFoundError(id);
      await this.repo.promoteOldest(em, userId);
    });
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
