import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {renderTable} from '../../../src/format/table.js'

describe('renderTable', () => {
  it('pads columns to the widest cell, two spaces apart, trailing blanks trimmed; a short row prints blanks', () => {
    assert.equal(renderTable(['A', 'LONG HEADER', 'C'], [['xxx', 'y', ''], ['z']]), ['A    LONG HEADER  C', 'xxx  y', 'z'].join('\n'))
  })
})
