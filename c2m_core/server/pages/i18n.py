"""Page text in English and Chinese; the page follows the browser's ``Accept-Language``."""

from __future__ import annotations

LANGUAGES = ("en", "zh")

MESSAGES: dict[str, dict[str, str]] = {
    "configure": {"en": "Configure", "zh": "定制"},
    "vote": {"en": "Vote", "zh": "投票"},
    "presale": {"en": "Pre-sale", "zh": "预售"},
    "dashboard": {"en": "Dashboard", "zh": "控制台"},
    "no_preference": {"en": "No preference", "zh": "无偏好"},
    "update": {"en": "Update", "zh": "更新"},
    "remaining": {"en": "valid configurations remain", "zh": "种有效配置"},
    "price": {"en": "Price", "zh": "价格"},
    "unavailable": {"en": "unavailable", "zh": "不可选"},
    "nearest": {"en": "Nearest valid configuration", "zh": "最接近的有效配置"},
    "conflict": {"en": "These choices cannot go together", "zh": "这些选择不能同时成立"},
    "note": {"en": "Anything else you wish for", "zh": "其他愿望"},
    "quantity": {"en": "Quantity", "zh": "数量"},
    "region": {"en": "Region", "zh": "地区"},
    "ceiling": {"en": "Most you would pay (major units)", "zh": "最高愿付价格"},
    "submit_wish": {"en": "Send my wish", "zh": "提交愿望"},
    "wish_stored": {"en": "Your wish is stored (number {id}).", "zh": "愿望已保存（编号 {id}）。"},
    "sign_in_at_shop": {
        "en": "Sign in at the shop to wish, vote or pledge.",
        "zh": "请先在商城登录，再提交愿望、投票或预订。",
    },
    "signed_in_as": {"en": "Signed in as {name}", "zh": "已登录：{name}"},
    "demo_name": {"en": "Your name (demo sign-in)", "zh": "你的名字（演示登录）"},
    "sign_in": {"en": "Sign in", "zh": "登录"},
    "choose_one": {"en": "Choose one", "zh": "选择一个"},
    "approve_up_to": {"en": "Approve up to {n}", "zh": "最多赞成 {n} 个"},
    "approve_any": {"en": "Approve any", "zh": "可赞成任意个"},
    "score_each": {"en": "Score each from 0 to 5", "zh": "为每个打分（0 到 5）"},
    "rank_them": {
        "en": "Rank them: drag, or focus one and use the Up/Down buttons",
        "zh": "排序：拖动，或使用上移/下移按钮",
    },
    "move_up": {"en": "Move {name} up", "zh": "上移 {name}"},
    "move_down": {"en": "Move {name} down", "zh": "下移 {name}"},
    "would_buy": {"en": "I would buy it", "zh": "我会购买"},
    "cast": {"en": "Cast my ballot", "zh": "投出选票"},
    "ballot_stored": {"en": "Your ballot is stored.", "zh": "选票已保存。"},
    "ballot_replaced": {
        "en": "Your ballot replaced your earlier one: {old}",
        "zh": "新选票已替换之前的选票：{old}",
    },
    "your_ballot": {"en": "Your ballot", "zh": "你的选票"},
    "vote_closed": {"en": "The vote is not open.", "zh": "投票未开放。"},
    "progress": {
        "en": "{units} of {threshold} units to go ahead",
        "zh": "已预订 {units}/{threshold} 台",
    },
    "units_left": {"en": "{n} units left", "zh": "剩余 {n} 台"},
    "no_limit": {"en": "no limit", "zh": "不限量"},
    "deposit": {"en": "Deposit", "zh": "定金"},
    "balance": {"en": "Balance", "zh": "尾款"},
    "time_left": {"en": "Time left", "zh": "剩余时间"},
    "pledge": {"en": "Pledge", "zh": "预订"},
    "pledged": {"en": "Your pledge is {state}.", "zh": "预订状态：{state}。"},
    "your_pledges": {"en": "Your pledges", "zh": "我的预订"},
    "none_yet": {"en": "None yet.", "zh": "暂无。"},
    "presale_closed": {"en": "The pre-sale is not open.", "zh": "预售未开放。"},
    "stage": {"en": "Stage", "zh": "阶段"},
    "actions": {"en": "Actions", "zh": "操作"},
    "confirm": {"en": "Confirm", "zh": "确认"},
    "cancel": {"en": "Cancel", "zh": "取消"},
    "refresh": {"en": "Refresh", "zh": "刷新"},
    "brand_token": {"en": "Brand token", "zh": "品牌令牌"},
    "error": {"en": "Something is wrong", "zh": "出现问题"},
    "days_hours": {"en": "{d} d {h} h", "zh": "{d} 天 {h} 小时"},
    "recent": {"en": "Latest activity", "zh": "最新动态"},
    "variant": {"en": "Variant", "zh": "款式"},
}


def language(accept: str | None) -> str:
    """``zh`` or ``en``: the first of the browser's languages that the pages speak."""
    ranked = []
    for n, part in enumerate((accept or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, n, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        base = tag.split("-")[0]
        if base in LANGUAGES:
            return base
    return "en"


def translator(lang: str):
    """``t(key, **fields)``: the message in ``lang`` (English when missing), fields filled in."""

    def t(key: str, **fields) -> str:
        entry = MESSAGES.get(key, {})
        text = entry.get(lang) or entry.get("en") or key
        return text.format(**fields) if fields else text

    return t
