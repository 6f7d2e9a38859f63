from bot.cli.app import entry

entry()
