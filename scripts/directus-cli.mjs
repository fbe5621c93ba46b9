// The Directus CLI without its update check (which calls the npm registry on every run).
await import('@directus/api/cli/run.js');
