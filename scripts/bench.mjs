// Placeholder: the benchmark runner (issue 4) replaces this.
console.error("npm run bench: not implemented yet"); process.exit(1);
