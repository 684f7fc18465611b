// Reading a saved plan from disk, with a user-facing error when it is not there.
import {readFile} from 'node:fs/promises'
import {KbkError} from '../errors.js'

export async function readPlanFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new KbkError('KBK_PLAN_FILE_NOT_FOUND', code === 'ENOENT' ? `Plan file ${path} does not exist.` : `Plan file ${path} cannot be read (${code}).`, {
      cause: error,
      suggestion: 'Create one with `kbk plan --out FILE`, or run `kbk apply` without a file to plan and apply in one go.',
    })
  }
}
