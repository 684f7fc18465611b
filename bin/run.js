#!/usr/bin/env node
// The installed `kbk` entry point: oclif finds the compiled commands in dist/.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
