export { LocalThrottler } from './local-throttler';
export { RedisThrottlerStorage } from './redis-throttler.storage';
export { RateLimitedError } from './rate-limited.error';
export { ThrottlingModule } from './throttling.module';
export { RedisFallback } from './redis-fallback';
