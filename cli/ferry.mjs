#!/usr/bin/env node
// The `ferry` command (package.json "bin"): TypeScript run through tsx, as the server is.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
