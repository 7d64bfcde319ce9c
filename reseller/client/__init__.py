"""The reseller client area: server-rendered pages, usable without JavaScript."""
