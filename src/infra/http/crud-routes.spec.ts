import { Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { IsString } from 'class-validator';
import { CrudRoutes } from './crud-routes';
import { createValidationPipe } from './validation.pipe';

class CreateThingDto {
  @IsString() name!: string;
}
class UpdateThingDto {
  @IsString() name?: string;
}
class ThingDto extends CreateThingDto {}

@Injectable()
class ThingsService {
  create = jest.fn(async (body: CreateThingDto) => ({ id: '1', ...body }));
  update = jest.fn(async (id: string, patch: UpdateThingDto) => ({ id, name: patch.name ?? '' }));
  delete = jest.fn(async (_id: string) => undefined);
  archive = jest.fn(async (_id: string) => undefined);
  all = jest.fn(async () => [{ id: '1', name: 'a' }]);
}

const dtos: [typeof ThingDto, typeof CreateThingDto, typeof UpdateThingDto] = [
  ThingDto,
  CreateThingDto,
  UpdateThingDto,
];

class ThingsController extends CrudRoutes(ThingsService, 'thing', {
  dtos,
  conflicts: ['THING_EXISTS'],
  notes: { update: 'history stays' },
}) {}
class ArchivingController extends CrudRoutes(ThingsService, 'thing', {
  dtos,
  instead: { summary: 'Archive a thing', run: (things, id) => things.archive(id) },
  list: { type: ThingDto, summary: 'Every thing' },
}) {}

describe('CrudRoutes', () => {
  const proto = ThingsController.prototype;

  it('declares POST /, PATCH /:id and DELETE /:id', () => {
    const routes = ['create', 'update', 'remove'].map((m) => [
      Reflect.getMetadata(METHOD_METADATA, proto[m as keyof typeof proto]),
      Reflect.getMetadata(PATH_METADATA, proto[m as keyof typeof proto]),
    ]);
    expect(routes).toEqual([
      [RequestMethod.POST, '/'],
      [RequestMethod.PATCH, ':id'],
      [RequestMethod.DELETE, ':id'],
    ]);
  });

  it('has Nest inject the service and validate the bodies against the DTO classes, not Object', async () => {
    expect(Reflect.getMetadata('design:paramtypes', ThingsController)).toEqual([ThingsService]);
    expect(Reflect.getMetadata('design:paramtypes', proto, 'create')).toEqual([CreateThingDto]);
    expect(Reflect.getMetadata('design:paramtypes', proto, 'update')).toEqual([String, UpdateThingDto]);
    const pipe = createValidationPipe();
    const metatype = Reflect.getMetadata('design:paramtypes', proto, 'create')[0];
    await expect(pipe.transform({ name: 'x', price: 1 }, { type: 'body', metatype })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(pipe.transform({ name: 'x' }, { type: 'body', metatype })).resolves.toBeInstanceOf(
      CreateThingDto,
    );
  });

  it('runs create, update and delete on the service, or the spec’s own delete', async () => {
    const things = new ThingsService();
    const c = new ThingsController(things);
    await expect(c.create({ name: 'a' })).resolves.toEqual({ id: '1', name: 'a' });
    await expect(c.update('1', { name: 'b' })).resolves.toEqual({ id: '1', name: 'b' });
    await c.remove('1');
    expect(things.delete).toHaveBeenCalledWith('1');
    await new ArchivingController(things).remove('2');
    expect(things.archive).toHaveBeenCalledWith('2');
    expect(things.delete).toHaveBeenCalledTimes(1);
  });

  it('words the summaries from the noun, the notes and the 409 codes', () => {
    const summaryOf = (c: object, m: string) =>
      (Reflect.getMetadata('swagger/apiOperation', (c as Record<string, object>)[m]) as { summary: string })
        .summary;
    expect(summaryOf(proto, 'create')).toBe('Create a thing (admin); 409 THING_EXISTS');
    expect(summaryOf(proto, 'update')).toBe('Change a thing (admin); history stays');
    expect(summaryOf(proto, 'remove')).toBe('Delete a thing (admin)');
    expect(summaryOf(ArchivingController.prototype, 'remove')).toBe('Archive a thing');
  });

  it('declares GET / answering the service’s list only where the spec asks for it', async () => {
    expect(Reflect.getMetadata(PATH_METADATA, proto.listAll)).toBeUndefined();
    const archiving = ArchivingController.prototype;
    expect(Reflect.getMetadata(METHOD_METADATA, archiving.listAll)).toBe(RequestMethod.GET);
    expect(Reflect.getMetadata(PATH_METADATA, archiving.listAll)).toBe('/');
    await expect(new ArchivingController(new ThingsService()).listAll()).resolves.toEqual({
      items: [{ id: '1', name: 'a' }],
    });
  });
});
