export * from './types.js';
export { ScramError, InvalidMintRequestError, type ScramErrorCode } from './errors.js';
export {
  makeScramVerifier,
  fakeScramVerifier,
  verifyCleartextAgainstScram,
  DEFAULT_SCRAM_ITERATIONS,
  MIN_SCRAM_ITERATIONS,
  MAX_SCRAM_ITERATIONS,
} from './scram.js';
export { ScramServerExchange, SCRAM_SHA_256, type ScramFinalResult, type ScramFailureReason } from './scram-exchange.js';
export { makeMysqlVerifiers, verifyNativePassword, verifyCachingSha2Fast, verifyCleartextMysql, MYSQL_SCRAMBLE_LENGTH } from './mysql-auth.js';
export {
  mintCredential,
  validateMintRequest,
  isCredentialUser,
  MIN_TTL_MS,
  DEFAULT_MAX_TTL_MS,
  MAX_LABELS,
  MAX_LABEL_VALUE_LENGTH,
  type MintOptions,
} from './mint.js';
export { DEFAULT_RATE_LIMIT } from './rate-limit.js';
export type { StoreOptions } from './store-options.js';
export { MemoryStore } from './memory-store.js';
export { RedisStore, DEFAULT_REDIS_PREFIX, type RedisStoreOptions } from './redis-store.js';
