export * from './type-hint.js';
export * from './hmac-sha256.js';
export * from './mask-functions.js';
export * from './pg-binary.js';
export * from './detectors.js';
export * from './planner.js';
