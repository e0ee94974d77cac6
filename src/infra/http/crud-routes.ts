import { Body, Param, Type } from '@nestjs/common';
import { CreateRoute, DeleteRoute, UpdateRoute } from './routes';

/** What a resource's create and update routes call: the module's service. */
export interface CrudStore<C, U> {
  create(body: C): Promise<unknown>;
  update(id: string, patch: U): Promise<unknown>;
}

type Deletes = { delete(id: string): Promise<void> };

/** `DELETE` calls the service's `delete(id)`, or `run` where it does something else (a deactivation). */
type DeleteSpec<S> = { summary: string } & (S extends Deletes
  ? { run?: (service: S, id: string) => Promise<void> }
  : { run: (service: S, id: string) => Promise<void> });

/** The OpenAPI side of the routes: bodies, answer, summaries and a create's 409 codes. */
export interface CrudRoutesSpec<S, C, U> {
  /** The resource as create and update answer it. */
  view: Type<unknown>;
  create: { body: Type<C>; summary: string; conflicts?: string[] };
  update: { body: Type<U>; summary: string };
  delete: DeleteSpec<S>;
}

/**
 * `POST /` (201), `PATCH /:id` and `DELETE /:id` (204) of a resource, documented as
 * {@link CreateRoute}, {@link UpdateRoute} and {@link DeleteRoute} do and run by `service`, which Nest
 * injects (Nest's mixin pattern). The controller that extends it gives the path, tag and roles
 * with its own decorator, and its other routes as methods using `this.service`:
 *
 * ```ts
 * @AdminController('tax', 'admin/tax-rates')
 * export class AdminTaxController extends CrudRoutes(TaxService, { view: TaxRateDto, create: {…}, update: {…}, delete: {…} }) {
 *   @ReadRoute({ type: TaxRateListDto })
 *   async list() { return { items: await this.service.all() }; }
 * }
 * ```
 */
export function CrudRoutes<S extends CrudStore<C, U>, C extends object, U extends object>(
  service: Type<S>,
  spec: CrudRoutesSpec<S, C, U>,
) {
  const remove = spec.delete.run ?? ((s: S, id: string) => (s as unknown as Deletes).delete(id));

  class Routes {
    constructor(protected readonly service: S) {}

    @CreateRoute({ type: spec.view, summary: spec.create.summary, conflicts: spec.create.conflicts })
    create(@Body() body: C): Promise<unknown> {
      return this.service.create(body);
    }

    @UpdateRoute({ type: spec.view, summary: spec.update.summary })
    update(@Param('id') id: string, @Body() patch: U): Promise<unknown> {
      return this.service.update(id, patch);
    }

    @DeleteRoute({ summary: spec.delete.summary })
    async remove(@Param('id') id: string): Promise<void> {
      await remove(this.service, id);
    }
  }
  // What Nest injects, and the bodies' classes (a type parameter is emitted as Object): the
  // ValidationPipe transforms, whitelists and validates against them and Swagger documents them.
  Reflect.defineMetadata('design:paramtypes', [service], Routes);
  Reflect.defineMetadata('design:paramtypes', [spec.create.body], Routes.prototype, 'create');
  Reflect.defineMetadata('design:paramtypes', [String, spec.update.body], Routes.prototype, 'update');
  return Routes;
}
