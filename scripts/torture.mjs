// Placeholder: the torture runner (issue 4) replaces this.
console.error("npm run torture: not implemented yet"); process.exit(1);
