"""Phone confirmation (手机号验证): a one-time code sent by SMS, confirmed once, for the citizen's login."""
