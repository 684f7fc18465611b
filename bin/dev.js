#!/usr/bin/env -S node --import tsx
// Development entry point (oclif development mode). oclif does not pick up tsx here, so it runs
// the compiled dist/ like bin/run.js: run `npm run build` after changing the sources.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
