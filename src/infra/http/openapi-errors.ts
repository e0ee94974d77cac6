import { applyDecorators } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

const ERROR_CONTENT = { 'application/json': { schema: { $ref: getSchemaPath(ErrorResponseDto) } } };

/**
 * Documents the one error shape on every operation of `doc`: each explicit 4xx/5xx response a
 * controller declares (`@ApiResponse({ status: 409, description })` needs no `type`) gets the
 * ErrorResponseDto schema, and every operation gets the catch-all `4XX` and `5XX` with it.
 * `ErrorResponseDto` must be among the document's models (`extraModels`).
 */
export function documentErrorResponses(doc: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      const responses = (op as { responses: Record<string, { description?: string; content?: unknown }> })
        .responses;
      for (const [code, response] of Object.entries(responses)) {
        if (/^[45]/.test(code)) response.content = ERROR_CONTENT;
      }
      responses['4XX'] ??= { description: 'Client error', content: ERROR_CONTENT };
      responses['5XX'] ??= { description: 'Server error or dependency unavailable', content: ERROR_CONTENT };
    }
  }
  return doc;
}

/**
 * Declares the stable error codes an operation answers, per HTTP status, in the OpenAPI
 * document (each with the one error shape, attached by {@link documentErrorResponses}), so
 * Swagger UI lists e.g. `409: COUPON_EXHAUSTED, COUPON_LIMIT_REACHED` under the operation.
 */
export function ApiErrorCodes(byStatus: Record<number, string[]>): MethodDecorator {
  const decorators = Object.entries(byStatus).map(([status, codes]) =>
    ApiResponse({ status: Number(status), description: codes.join(', ') }),
  );
  return applyDecorators(...decorators);
}
