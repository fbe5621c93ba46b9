// Bundled into dist/api.js: everything the server side imports, so the installed extension
// needs nothing from node_modules at run time.
export default {
	plugins: [],
};
