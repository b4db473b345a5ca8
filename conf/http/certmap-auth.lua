-- HAProxy action "certmap-auth": asks certmapd's HTTP listener
-- (service.http.listen, cert_format "base64-der") about the client
-- certificate in txn.certmap_cert, and sets txn.certmap_status,
-- txn.certmap_user, txn.certmap_groups and txn.certmap_reason.
-- Where certmapd listens: the environment (HAProxy's global "setenv
-- CERTMAPD_PORT 8741" before lua-load), default 127.0.0.1:8741.
local CERTMAPD_HOST = os.getenv("CERTMAPD_HOST") or "127.0.0.1"
local CERTMAPD_PORT = tonumber(os.getenv("CERTMAPD_PORT") or "8741")

core.register_action("certmap-auth", { "http-req" }, function(txn)
	local cert = txn:get_var("txn.certmap_cert") or ""
	txn:set_var("txn.certmap_status", "500")
	local s = core.tcp()
	s:settimeout(5)
	if not s:connect(CERTMAPD_HOST, CERTMAPD_PORT) then
		txn:set_var("txn.certmap_status", "503")
		return
	end
	s:send("GET /auth HTTP/1.0\r\nHost: certmapd\r\nX-Client-Cert: " .. cert .. "\r\n\r\n")
	local status = s:receive("*l") or ""
	local code = status:match("^HTTP/1%.%d (%d%d%d)")
	while true do
		local line = s:receive("*l")
		if line == nil or line == "" then break end
		local k, v = line:match("^([^:]+):%s*(.*)$")
		if k then
			k = k:lower()
			if k == "x-certmap-user" then txn:set_var("txn.certmap_user", v)
			elseif k == "x-certmap-groups" then txn:set_var("txn.certmap_groups", v)
			elseif k == "x-certmap-reason" then txn:set_var("txn.certmap_reason", v) end
		end
	end
	s:close()
	txn:set_var("txn.certmap_status", code or "500")
end)
