// The Directus 11 CLI without its update check, resolved from this folder (its own @directus/api): the
// harness runs it when CREDENTIALS_DIRECTUS_HOST names this folder.
await import('@directus/api/cli/run.js');
