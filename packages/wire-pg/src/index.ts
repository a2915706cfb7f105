export * from './codes.js';
export * from './protocol-error.js';
export * from './reader.js';
export * from './frame-scanner.js';
export * from './backend-messages.js';
export * from './frontend-messages.js';
export * from './decode.js';
export * from './row-messages.js';
