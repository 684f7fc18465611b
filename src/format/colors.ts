// Terminal colors, off unless the output is a TTY and neither --no-color nor NO_COLOR says otherwise.
import {styleText} from 'node:util'

let enabled = false

export function setColorEnabled(on: boolean): void {
  enabled = on
}

export function colorEnabled(): boolean {
  return enabled
}

type Style = Parameters<typeof styleText>[0]

function paint(style: Style) {
  return (s: string): string => (enabled ? styleText(style, s) : s)
}

export const c = {
  green: paint('green'),
  red: paint('red'),
  yellow: paint('yellow'),
  cyan: paint('cyan'),
  bold: paint('bold'),
  dim: paint('dim'),
  boldRed: paint(['bold', 'red']),
  boldYellow: paint(['bold', 'yellow']),
}
