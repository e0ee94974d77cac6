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
        if (!/^[45]/.test(code)) continue;
        // Examples declared with ApiErrorResponse stay beside the one schema.
        const examples = (response.content as Record<string, { examples?: unknown }> | undefined)?.[
          'application/json'
        ]?.examples;
        response.content = examples
          ? { 'application/json': { ...ERROR_CONTENT['application/json'], examples } }
          : ERROR_CONTENT;
      }
      responses['4XX'] ??= { description: 'Client error', content: ERROR_CONTENT };
      responses['5XX'] ??= { description: 'Server error or dependency unavailable', content: ERROR_CONTENT };
    }
  }
  return doc;
}

/**
 * Documents an error status of an operation with one example body per stable code, in the
 * contract's shape: `@ApiErrorResponse(400, 'The token cannot be used', { RESET_TOKEN_EXPIRED:
 * 'This password-reset link has expired; ask for a new one' })`. Several for one status merge.
 */
export const ApiErrorResponse = (status: number, description: string, codes: Record<string, string>) =>
  ApiResponse({
    status,
    description,
    examples: Object.fromEntries(
      Object.entries(codes).map(([code, message]) => [
        code,
        {
          summary: code,
          value: { statusCode: status, code, message, requestId: '0193a6a4-2f0e-7c41-9b1e-5d0c3f7a9e21' },
        },
      ]),
    ),
  });
