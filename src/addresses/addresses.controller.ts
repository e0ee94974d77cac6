import { DeleteRoute, ReadRoute, SignedInController, UpdateRoute } from '../infra/http/routes';
import { ApiErrorCodes } from '../infra/http/openapi-errors';
import { Body, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth';
import { AddressDto, AddressListDto, CreateAddressDto, UpdateAddressDto } from './address.dto';
import { AddressView, MAX_ADDRESSES_PER_USER } from './address.types';
import { AddressesService } from './addresses.service';

@SignedInController('addresses', 'addresses')
export class AddressesController {
  constructor(private readonly addresses: AddressesService) {}

  @ReadRoute({ type: AddressListDto, summary: 'My address book (oldest first)' })
  async list(@CurrentUser() user: AuthUser): Promise<{ items: AddressView[] }> {
    return { items: await this.addresses.list(user.id) };
  }

  @Post()
  @ApiOperation({
    summary: 'Add an address',
    description: `At most ${MAX_ADDRESSES_PER_USER} (409 ADDRESS_BOOK_FULL). 422 ADDRESS_INVALID names each field a carrier could not use (ISO 3166-1 alpha-2 country, postal code, phone).`,
  })
  @ApiErrorCodes({ 409: ['ADDRESS_BOOK_FULL'], 422: ['ADDRESS_INVALID'] })
  @ApiCreatedResponse({ type: AddressDto })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateAddressDto): Promise<AddressView> {
    return this.addresses.create(user.id, body);
  }

  @UpdateRoute({
    type: AddressDto,
    summary: 'Change an address, or make it the default (`isDefault: true`)',
    errors: { 404: ['ADDRESS_NOT_FOUND'], 422: ['ADDRESS_INVALID'] },
  })
  update(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: UpdateAddressDto) {
    return this.addresses.update(user.id, id, body);
  }

  @DeleteRoute({
    summary: 'Delete an address (orders keep their copy; the oldest other becomes the default)',
  })
  async remove(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.addresses.delete(user.id, id);
  }
}
