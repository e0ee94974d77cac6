import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth';

const INDEX = {
  name: 'nest-commerce',
  version: 'v1',
  docs: '/docs',
  openapi: '/docs-json',
  health: '/health/ready',
  metrics: '/metrics',
  resources: {
    register: '/api/v1/auth/register',
    login: '/api/v1/auth/login',
    me: '/api/v1/users/me',
    products: '/api/v1/products',
    categories: '/api/v1/categories',
    orders: '/api/v1/orders',
    payments: '/api/v1/payments',
    flashSales: '/api/v1/flash-sales',
    queues: '/admin/queues',
  },
};

/** `GET /api/v1`: where to start (the banner of `npm run up` links here), instead of a 404. */
@ApiTags('health')
@Public()
@Controller()
export class ApiIndexController {
  @Get()
  @ApiOperation({ summary: 'Links to the documentation and the main resources of the API' })
  @ApiOkResponse({ schema: { example: INDEX } })
  index(): typeof INDEX {
    return INDEX;
  }
}
