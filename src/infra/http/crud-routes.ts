import { Body, Param, Type } from '@nestjs/common';
import { CreateRoute, DeleteRoute, ReadRoute, UpdateRoute } from './routes';

/** What a resource's routes call: the module's service. */
export interface CrudStore<C, U> {
  create(body: C): Promise<unknown>;
  update(id: string, patch: U): Promise<unknown>;
}

type Deletes = { delete(id: string): Promise<void> };
type Lists = { all(): Promise<unknown[]> };

/** `DELETE` calls the service's `delete(id)`, or `instead.run` where it does something else (a deactivation). */
type DeleteSpec<S> = S extends Deletes
  ? { instead?: { summary: string; run: (service: S, id: string) => Promise<void> } }
  : { instead: { summary: string; run: (service: S, id: string) => Promise<void> } };

/** `GET /` answering `{ items: await service.all() }`, where the service lists that way. */
type ListSpec<S> = S extends Lists ? { list?: { type: Type<unknown>; summary: string } } : { list?: never };

/** The OpenAPI side of the routes. Summaries read `Create a <noun> (admin); <note>; 409 <conflicts>`. */
export type CrudRoutesSpec<S, C, U> = {
  /** The resource as create and update answer it, then the create and update bodies. */
  dtos: [view: Type<unknown>, create: Type<C>, update: Type<U>];
  /** A create's 409 codes. */
  conflicts?: string[];
  /** What a route's summary says after the noun. */
  notes?: { create?: string; update?: string };
} & DeleteSpec<S> &
  ListSpec<S>;

const summary = (verb: string, noun: string, note?: string, conflicts?: string[]): string =>
  [`${verb} a ${noun} (admin)`, note, conflicts && `409 ${conflicts.join(', ')}`].filter(Boolean).join('; ');

/**
 * `POST /` (201), `PATCH /:id` and `DELETE /:id` (204) of a resource, and `GET /` where the spec
 * says so, documented as {@link CreateRoute}, {@link UpdateRoute}, {@link DeleteRoute} and
 * {@link ReadRoute} do and run by `service`, which Nest injects (Nest's mixin pattern). The
 * controller that extends it gives the path, tag and roles with its own decorator, and its other
 * routes as methods using `this.service`:
 *
 * ```ts
 * @AdminController('tax', 'admin/tax-rates')
 * export class AdminTaxController extends CrudRoutes(TaxService, 'tax rate', { dtos: [TaxRateDto, CreateTaxRateDto, UpdateTaxRateDto] }) {
 *   @ReadRoute({ type: TaxRateListDto })
 *   async list() { return { items: await this.service.all(), pricesIncludeTax: this.service.pricesIncludeTax }; }
 * }
 * ```
 */
export function CrudRoutes<S extends CrudStore<C, U>, C extends object, U extends object>(
  service: Type<S>,
  noun: string,
  spec: CrudRoutesSpec<S, C, U>,
) {
  const [view, createBody, updateBody] = spec.dtos;
  const remove = spec.instead?.run ?? ((s: S, id: string) => (s as unknown as Deletes).delete(id));

  class Routes {
    constructor(protected readonly service: S) {}

    @CreateRoute({
      type: view,
      summary: summary('Create', noun, spec.notes?.create, spec.conflicts),
      conflicts: spec.conflicts,
    })
    create(@Body() body: C): Promise<unknown> {
      return this.service.create(body);
    }

    @UpdateRoute({ type: view, summary: summary('Change', noun, spec.notes?.update) })
    update(@Param('id') id: string, @Body() patch: U): Promise<unknown> {
      return this.service.update(id, patch);
    }

    @DeleteRoute({ summary: spec.instead?.summary ?? summary('Delete', noun) })
    async remove(@Param('id') id: string): Promise<void> {
      await remove(this.service, id);
    }

    /** A route only where `spec.list` is given (decorated below). */
    async listAll(): Promise<{ items: unknown[] }> {
      return { items: await (this.service as unknown as Lists).all() };
    }
  }
  if (spec.list) {
    const method = Object.getOwnPropertyDescriptor(Routes.prototype, 'listAll')!;
    ReadRoute(spec.list)(Routes.prototype, 'listAll', method);
  }
  // What Nest injects, and the bodies' classes (a type parameter is emitted as Object): the
  // ValidationPipe transforms, whitelists and validates against them and Swagger documents them.
  Reflect.defineMetadata('design:paramtypes', [service], Routes);
  Reflect.defineMetadata('design:paramtypes', [createBody], Routes.prototype, 'create');
  Reflect.defineMetadata('design:paramtypes', [String, updateBody], Routes.prototype, 'update');
  return Routes;
}
