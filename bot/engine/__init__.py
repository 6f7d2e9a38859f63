"""The conversation engine: pure (state, event, world, routes) -> Step.

It imports neutral types only (no messenger, ORM or Settings); a test keeps it so. Where does a
button press go? `core.step` decodes the payload into a `ButtonKind` and calls the handler the
routing table (bot/routes.py) names for it.
"""

from bot.engine.core import Ctx, OpenWave, Routes, State, Step, World, step

__all__ = ["Ctx", "OpenWave", "Routes", "State", "Step", "World", "step"]
