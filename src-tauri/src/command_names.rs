// The commands the webview may call, shared by build.rs (the app's ACL manifest: each command
// gets an `allow-<name>` permission) and the crate (whose tests check that the handler answers
// every name here and that the capability grants exactly these).

/// Every command of the desktop app.
pub const COMMANDS: &[&str] = &[
    "getsharechaininfo",
    "getselectedshare",
    "getshareranges",
    "listbitcoinblocks",
    "getpeerinfo",
    "getnetworkinfo",
    "addpeer",
    "getsyncstatus",
    "getmininginfo",
    "setmining",
    "getdevices",
    "setdevice",
    "gethashratehistory",
    "getodds",
    "getnetworkparams",
    "getnodeinfo",
    "testbitcoincore",
    "getlogs",
    "getsetup",
    "setup",
    "getsettings",
    "setsettings",
    "desktop_settings",
    "set_desktop_settings",
    "node_state",
    "ui_ready",
];
