import { Controller, Delete, Get, HttpCode, Patch, Post, Type, applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../../common/auth';
import { ApiErrorCodes } from './openapi-errors';

/**
 * The decorators controllers and their routes repeated, in one place. Each route decorator adds
 * what the route's OpenAPI entry says: its summary (when given), its answer, and for a create the
 * 409 codes a unique key can answer.
 */

/** Only admins (AdminController does the same for a whole controller). */
export const AdminOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(Roles('admin'), ApiBearerAuth());

/** A controller whose every route needs a signed-in caller (`authorization: Bearer <accessToken>`). */
export const SignedInController = (tag: string, path?: string): ClassDecorator =>
  applyDecorators(ApiTags(tag), ApiBearerAuth(), path === undefined ? Controller() : Controller(path));

/** A controller whose every route is for admins only. */
export const AdminController = (tag: string, path: string): ClassDecorator =>
  applyDecorators(ApiTags(tag), AdminOnly(), Controller(path));

interface RouteDoc {
  /** The answer's schema, or a description when it has none. */
  type?: Type<unknown>;
  description?: string;
  summary?: string;
}

const operation = (summary?: string) => (summary ? [ApiOperation({ summary })] : []);

/** `GET path` answering 200 with `type`. */
export const ReadRoute = (doc: RouteDoc & { type: Type<unknown> }, path?: string): MethodDecorator =>
  applyDecorators(Get(path), ...operation(doc.summary), ApiOkResponse({ type: doc.type }));

/** `POST path` answering 201 with the created resource; `conflicts`: its 409 codes. */
export const CreateRoute = (doc: RouteDoc & { conflicts?: string[] }, path?: string): MethodDecorator =>
  applyDecorators(
    Post(path),
    ...operation(doc.summary),
    ...(doc.conflicts ? [ApiErrorCodes({ 409: doc.conflicts })] : []),
    ApiCreatedResponse(doc.type ? { type: doc.type } : { description: doc.description }),
  );

/** `PATCH path` (`:id` by default) answering 200 with the changed resource; `errors`: its error codes. */
export const UpdateRoute = (
  doc: RouteDoc & { errors?: Record<number, string[]> },
  path = ':id',
): MethodDecorator =>
  applyDecorators(
    Patch(path),
    ...operation(doc.summary),
    ApiOkResponse({ type: doc.type }),
    ...(doc.errors ? [ApiErrorCodes(doc.errors)] : []),
  );

/** `DELETE path` (`:id` by default) answering 204. */
export const DeleteRoute = (doc: Omit<RouteDoc, 'type'>, path = ':id'): MethodDecorator =>
  applyDecorators(
    Delete(path),
    HttpCode(204),
    ...operation(doc.summary),
    ApiNoContentResponse(doc.description ? { description: doc.description } : undefined),
  );
