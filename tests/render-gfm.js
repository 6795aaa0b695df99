// Renders a Markdown file to HTML as GitHub would (GFM, with its autolinks
// of www. and http(s):// text and of mail addresses), with the npm package
// marked, for the check suites to look for links in a report.
//   node tests/render-gfm.js FILE
// MARKED_MODULE names the package's folder (default: build/node/
// node_modules/marked, where make test-bats installs it). Exits 2 when it
// cannot run.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const modulePath = process.env.MARKED_MODULE || path.join(root, "build", "node", "node_modules", "marked");

if (process.argv.length !== 3) {
	console.error("usage: render-gfm.js FILE");
	process.exit(2);
}
let marked;
try {
	({ marked } = require(modulePath));
} catch (err) {
	console.error(`render-gfm: ${err.message}`);
	process.exit(2);
}
// Strict: a file that is not UTF-8 fails here rather than turning into U+FFFD.
const text = new TextDecoder("utf-8", { fatal: true }).decode(fs.readFileSync(process.argv[2]));
process.stdout.write(marked.parse(text, { gfm: true, async: false }));
