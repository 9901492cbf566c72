from bot.core.app import SLOW_DOWN, Core
from bot.core.ratelimit import RateLimiter, Verdict
from bot.core.request import Actor, Request


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_notice_then_silence_then_allowed_again():
    clock = Clock()
    limiter = RateLimiter(per_user=2, per_chat=100, window=10, clock=clock)
    verdicts = [limiter.check("telegram:1", "telegram:-5") for _ in range(5)]
    assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.NOTIFY, Verdict.SILENT,
                        Verdict.SILENT]
    assert limiter.check("telegram:2", "telegram:-5") is Verdict.ALLOW  # others unaffected
    clock.now = 10.5
    assert limiter.check("telegram:1", "telegram:-5") is Verdict.ALLOW


def test_chat_limit_covers_many_users():
    limiter = RateLimiter(per_user=100, per_chat=3, window=10, clock=Clock())
    verdicts = [limiter.check(f"u{n}", "chat") for n in range(5)]
    assert verdicts[:3] == [Verdict.ALLOW] * 3 and verdicts[3] is Verdict.NOTIFY


async def test_core_applies_the_limit(loaded):
    core = Core(loaded, limiter=RateLimiter(per_user=1, per_chat=10, window=60, clock=Clock()))
    request = Request(actor=Actor("telegram", "9"), command="help", chat_id="telegram:1")
    assert (await core.handle(request)).blocks
    slow = await core.handle(request)
    assert slow.blocks[0].text == SLOW_DOWN
    assert await core.handle(request) is None


def test_inline_queries_have_their_own_budget():
    limiter = RateLimiter(per_user=1, per_chat=10, per_user_inline=3, window=60, clock=Clock())
    assert limiter.check("u", "c") is Verdict.ALLOW
    assert [limiter.check("u", inline=True) for _ in range(4)] == [
        Verdict.ALLOW, Verdict.ALLOW, Verdict.ALLOW, Verdict.NOTIFY]
    assert limiter.check("u", "c") is Verdict.NOTIFY  # messages still limited on their own
