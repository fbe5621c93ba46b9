export * from './binding.js';
export * from './envelope.js';
export * from './errors.js';
export * from './keyring.js';
export * from './legacy.js';
export * from './stored-value.js';
export * from './directus-encrypt.js';
export * from './token.js';
