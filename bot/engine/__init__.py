"""The conversation engine: pure (state, event, world) -> Step. Imports every flow module.

Where does a button press go? `core.step` decodes the payload and looks up `PAYLOADS[kind]`;
the kinds are listed in `bot/payloads.py`, and each flow module registers its handlers with
`@payload(...)`, `@command(...)`, `@mode_input(...)` and `@menu_item(...)`.
"""

from bot.engine import criteria, menu, registration, survey  # noqa: F401  (registration of handlers)
from bot.engine.core import Ctx, OpenWave, State, Step, World, step

__all__ = ["Ctx", "OpenWave", "State", "Step", "World", "step"]
