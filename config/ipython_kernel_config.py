# Copied by `make setup` into .venv/etc/ipython/, where every kernel started from the
# course's environment reads it (JupyterLab, nbval, `make refresh`, `make bench`).
#
# TensorFlow writes its C++ log (oneDNN, CUDA probing, CPU features) straight to the
# process's file descriptor 2. Since ipykernel 6 the kernel copies that descriptor into
# the notebook as stderr output, where it clutters slides and makes nbval fail on lines
# that change with every run (timestamps, process ids). With this setting the C++ log goes
# to the terminal that started Jupyter instead. Python warnings still reach the notebook.
c = get_config()  # noqa: F821 (provided by IPython when it loads this file)
c.IPKernelApp.capture_fd_output = False


# A trailing `;` hides a cell's value in Jupyter (`plots.image_grid(...);`). IPython decides
# that by looking at the last cell stored in its history, but nbval executes cells with
# store_history=False, so under nbval the `;` was ignored and every figure a plotting call
# returned was displayed twice. Read the cell being executed instead, as Jupyter effectively
# does, so the tests see exactly what a reader sees.
def _honour_semicolons_without_history():
    from IPython.core.displayhook import DisplayHook

    original = DisplayHook.quiet

    def quiet(self):
        result = getattr(self, "exec_result", None)
        info = getattr(result, "info", None)
        if info is not None and not info.store_history and info.raw_cell is not None:
            return self.semicolon_at_end_of_expression(info.raw_cell)
        return original(self)

    DisplayHook.quiet = quiet


_honour_semicolons_without_history()

# Notebooks run offline (CONTRIBUTING.md, "Offline"). The kernel refuses every connection that
# would leave this machine, so a notebook that reaches for the network (a dataset URL,
# pretrained weights) fails at once with this message instead of working only online;
# tests/test_course.py checks it. Loopback stays open (the kernel talks to Jupyter over it).
# For your own experiments outside the course: COURSE_ALLOW_NETWORK=1 jupyter lab.
import os as _os  # noqa: E402

if _os.environ.get("COURSE_ALLOW_NETWORK") != "1":
    import ipaddress as _ipaddress
    import socket as _socket

    _MESSAGE = ("the course runs offline: {} to {!r} refused "
                "(config/ipython_kernel_config.py; COURSE_ALLOW_NETWORK=1 lifts this)")

    def _is_local(host) -> bool:
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        if host is None or host in ("", "localhost", "localhost.localdomain"):
            return True
        try:
            return _ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def _check(sock, address, action):
        if sock.family in (_socket.AF_INET, _socket.AF_INET6) and isinstance(address, tuple) \
                and not _is_local(address[0]):
            raise ConnectionRefusedError(_MESSAGE.format(action, address))

    def _guard_address_last(method, action):
        def guarded(self, *args):
            _check(self, args[-1], action)
            return method(self, *args)
        return guarded

    def _guard_address_first(method, action):
        def guarded(self, address, *args):
            _check(self, address, action)
            return method(self, address, *args)
        return guarded

    _socket.socket.connect = _guard_address_first(_socket.socket.connect, "connection")
    _socket.socket.connect_ex = _guard_address_first(_socket.socket.connect_ex, "connection")
    _socket.socket.sendto = _guard_address_last(_socket.socket.sendto, "datagram")
    _getaddrinfo = _socket.getaddrinfo

    def _offline_getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            raise _socket.gaierror(_socket.EAI_NONAME, _MESSAGE.format("name lookup", host))
        return _getaddrinfo(host, *args, **kwargs)

    _socket.getaddrinfo = _offline_getaddrinfo
