// `kbk drill report`: the drill evidence in the store, rendered for an auditor.
import {Flags} from '@oclif/core'
import {readDrillReport} from '../../app/drill.js'
import {chooseStore} from '../../app/workspace.js'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspace} from '../../cli/context.js'
import {durationFlag} from '../../cli/flags.js'
import {formatDrillReportHtml, formatDrillReportMarkdown, summarizeDrills, type DrillReportInput, type DrillReportSummary} from '../../format/drill-report.js'

export default class DrillReport extends KbkCommand<typeof DrillReport> {
  static override description = `Render the drill evidence kept in the store: a summary (drills run, passed, RTO compliance, drills overdue) and one page per drill (who, when, kbk version, workspace digest, the applied plan, per-partition counts and digests, RTO measured vs target, pass/fail and why).`

  static override examples = ['<%= config.bin %> drill report --since 1y --format html > drills.html', '<%= config.bin %> drill report --format markdown']

  static override flags = {
    since: durationFlag({description: 'Only drills started within this long before now (e.g. 90d, 1y).'}),
    format: Flags.string({description: 'Output format.', options: ['markdown', 'html', 'json'], default: 'markdown'}),
    store: Flags.string({description: 'The store to read (when the workspace has several).'}),
  }

  async run(): Promise<DrillReportInput & {summary: DrillReportSummary}> {
    const ws = await openWorkspace(this.flags, {kafka: false})
    try {
      const store = chooseStore(ws.workspace, this.flags.store)
      const since = this.flags.since !== undefined ? new Date(ws.clock().getTime() - this.flags.since) : undefined
      const input = await readDrillReport(ws, store, since ? {since} : {})
      const summary = summarizeDrills(input)
      if (!this.jsonEnabled()) {
        if (this.flags.format === 'json') process.stdout.write(JSON.stringify({...input, summary}, null, 2) + '\n')
        else process.stdout.write(this.flags.format === 'html' ? formatDrillReportHtml(input) : formatDrillReportMarkdown(input) + '\n')
      }
      return {...input, summary}
    } finally {
      await ws.close()
    }
  }
}
