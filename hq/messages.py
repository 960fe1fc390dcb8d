"""Every zh_CN text HQ sends (``ErrorBody.message_zh`` and rejection reasons), keyed by a stable code.

Clients may translate the code themselves; the text here is what a guide reads when they do not.
"""

from __future__ import annotations

from typing import Any

from guide_app.i18n import fill

MESSAGES_ZH: dict[str, str] = {
    # versions
    "version_missing": "请求缺少客户端版本信息，请升级客户端后重试",
    "upgrade_required": "请升级客户端：当前版本（协议 {protocol}，数据 {schema}）与总部服务不兼容，总部支持协议 {pmin}–{pmax}、数据 {smin}–{smax}",
    # auth
    "bad_credentials": "用户名或密码错误",
    "login_rate_limited": "登录失败次数过多，请 {minutes} 分钟后再试",
    "account_disabled": "该账号已停用，请联系店长或总部",
    "device_revoked": "这台电脑已被总部停用，请联系总部重新登记",
    "device_unknown": "总部找不到这台电脑的登记信息，请重新登录以登记本机",
    "store_required": "该账号属于多家门店，请选择要登记的门店",
    "store_forbidden": "无权访问该门店的数据",
    "store_unknown": "门店不存在",
    "token_missing": "请先登录",
    "token_invalid": "登录信息无效，请重新登录",
    "token_expired": "登录已过期，请刷新或重新登录",
    "session_revoked": "登录已失效，请重新登录",
    "refresh_invalid": "登录信息无效，请重新登录",
    "refresh_expired": "登录已过期，请重新登录",
    "refresh_reused": "检测到登录凭证被重复使用，为安全起见已退出登录，请重新登录",
    "device_mismatch": "登录信息与本机不符，请重新登录",
    # sync
    "push_too_large": "一次同步的数据太多（最多 {max_mutations} 条、{max_bytes} 字节），请分批同步",
    "cursor_ahead": "本机的同步进度超过了总部的记录（总部版本 {store_version}），需要从头重新同步",
    "device_store_mismatch": "请求中的电脑编号与登录信息不符",
    "device_forked": "这台电脑的同步记录与总部不一致（可能恢复过旧的备份），请退出后重新登录以重新登记本机，未同步的修改会保留",
    "seq_gap": "同步序号不连续：总部期望第 {expected_seq} 条，请从该条开始重新同步",
    # requests
    "invalid_request": "请求格式不正确：{problem}",
    "not_found": "找不到请求的地址",
    "pack_not_found": "找不到该活动包（可能已被总部撤回）",
    "range_not_satisfiable": "下载位置超出活动包大小，请重新下载",
    "method_not_allowed": "不支持该请求方式",
    "server_error": "总部服务出错，请稍后重试",
    "http_error": "请求失败（{status}）",
    # rejected mutations (shown to the guide next to the change that was refused)
    "rej.unknown_entity": "总部不认识的数据类型“{entity}”",
    "rej.unknown_field": "“{entity}”没有字段“{field}”",
    "rej.read_only_field": "字段“{field}”由总部维护，门店不能修改",
    "rej.bad_id": "记录编号“{value}”格式不正确",
    "rej.bad_pair_id": "客户标签记录编号应由客户和标签生成",
    "rej.missing_stamp": "字段“{field}”缺少修改时间戳",
    "rej.bad_hlc": "修改时间戳“{value}”格式不正确",
    "rej.clock_ahead": "本机时间比总部快了超过 5 分钟（{value}），请校准电脑时间后再同步",
    "rej.bad_phone": "手机号无效：{reason}",
    "rej.field_too_long": "“{field}”太长了（最多 {limit} 个字）",
    "rej.bad_value": "字段“{field}”的值无效：{value}",
    "rej.other_store": "这条数据属于其他门店，不能同步到本店",
    "rej.unknown_row": "总部没有这条记录（它的新建可能被拒绝过），修改无法保存",
    "rej.unknown_parent": "关联的“{entity}”记录在本店不存在：{value}",
    "rej.unknown_guide": "导购“{value}”不属于本店",
    "rej.corp_read_only": "企业标签由总部维护，门店不能修改",
    "rej.code_taken": "活码“{value}”已被占用，请重新生成",
    "rej.bad_code": "活码“{value}”格式不正确",
    "rej.code_immutable": "活码建好后不能修改{field}（已印出的二维码仍指向原来的设置），请新建一个活码",
    "rej.audit_immutable": "操作记录一经保存不能修改",
    "rej.erased": "该客户已应顾客要求删除个人信息，不能再修改或添加记录",
    "rej.store_change": "记录不能移到其他门店",
}


def zh(code: str, **params: Any) -> str:
    return fill(MESSAGES_ZH.get(code, code), params)
