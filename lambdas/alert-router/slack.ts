/**
 * Slack incoming webhook: POST {text, blocks} to the webhook URL (a secret: never logged); 200 "ok" is success.
 * https://api.slack.com/messaging/webhooks
 */
import { type PostOptions, postJson } from './http.js';

export interface SlackMessage {
  /** Fallback text (notifications) and the header line. */
  readonly text: string;
  /** Field name → value, shown as a two-column section. */
  readonly fields: Record<string, string>;
  /** Console link of the execution. */
  readonly link?: { href: string; text: string };
}

/** Slack's limit of a section text. */
const MAX_TEXT = 3000;

export function slackBlocks(message: SlackMessage): unknown[] {
  const fields = Object.entries(message.fields)
    .slice(0, 10) // Slack allows 10 fields per section
    .map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}`.slice(0, 2000) }));
  return [
    { type: 'section', text: { type: 'mrkdwn', text: message.text.slice(0, MAX_TEXT) } },
    ...(fields.length > 0 ? [{ type: 'section', fields }] : []),
    ...(message.link
      ? [{ type: 'section', text: { type: 'mrkdwn', text: `<${message.link.href}|${message.link.text}>` } }]
      : []),
  ];
}

export class SlackClient {
  constructor(
    private readonly webhookUrl: () => Promise<string>,
    private readonly http: PostOptions,
  ) {}

  async post(message: SlackMessage): Promise<void> {
    await postJson(
      'Slack webhook',
      await this.webhookUrl(),
      { text: message.text, blocks: slackBlocks(message) },
      this.http,
    );
  }
}
