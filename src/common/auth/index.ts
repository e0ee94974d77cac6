export * from './auth.decorators';
