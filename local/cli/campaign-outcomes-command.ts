/**
 * `clv generate campaign-outcomes ...`: the generator's campaign outcome simulator (datagen/campaign.py, run as
 * `python -m datagen campaign-outcomes ...`) behind the `generate` command; every other `generate` call goes to the
 * shop generator unchanged.
 */
import type { Command } from './commands.js';
import { pythonModuleCommand } from './python-command.js';

export const CAMPAIGN_OUTCOMES_USAGE = `usage: npm run clv -- generate campaign-outcomes --campaign ID --audience FILE_OR_URI --truth-dir DIR_OR_URI --out URI
                          [--lift-arm control|treatment] [--lift F] [--unsubscribe-rate F] [--unsubscribe-lift F]
                          [--seed S] [--observed-at YYYY-MM-DD] [--analysis-csv FILE_OR_URI]

  Simulates each targeted customer's outcome (converted, revenue, unsubscribed) from the generator's ground truth
  (truth/expected_revenue.csv.gz) and writes <out>/campaign_id=<ID>/outcomes.parquet (the campaign_outcomes
  layout). --out is the table prefix, e.g. s3://clv-local-gold/campaigns/outcomes. --analysis-csv also writes a
  per-customer CSV with the arm, the input of \`clv experiment analyze\`. See docs/experiments.md.`;

const campaignOutcomes = pythonModuleCommand('simulate campaign outcomes', CAMPAIGN_OUTCOMES_USAGE, 'datagen', [
  'campaign-outcomes',
]);

/** `generate` with the `campaign-outcomes` subcommand in front of it. */
export function withCampaignOutcomes(generate: Command): Command {
  return {
    summary: `${generate.summary}; campaign-outcomes: simulate a campaign's outcomes`,
    usage: `${generate.usage}\n\n${CAMPAIGN_OUTCOMES_USAGE}`,
    run: (argv) => (argv[0] === 'campaign-outcomes' ? campaignOutcomes.run(argv.slice(1)) : generate.run(argv)),
  };
}
