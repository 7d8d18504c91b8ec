import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

describe('slack/manifest.yaml', () => {
  const manifest = YAML.parse(fs.readFileSync(new URL('../../slack/manifest.yaml', import.meta.url), 'utf8'));

  it('declares the command, interactivity, events and App Home the bot listens to', () => {
    expect(manifest.features.slash_commands[0]).toMatchObject({ command: '/mlops', should_escape: true });
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(
      expect.arrayContaining(['app_mention', 'message.im', 'app_home_opened']),
    );
    expect(manifest.oauth_config.scopes.bot).toEqual(
      // files:write: the approval card's chart and the drift alert's are uploaded files.
      expect.arrayContaining(['commands', 'chat:write', 'files:write', 'app_mentions:read', 'im:history']),
    );
    for (const url of [
      manifest.features.slash_commands[0].url,
      manifest.settings.interactivity.request_url,
    ]) {
      expect(url).toMatch(/\/slack\/events$/);
    }
  });
});
