//! Debian's nginx serving a folder on 127.0.0.1 (a real HTTP server for web seed tests).
//! One process (`master_process off`), everything it writes inside its own temp folder.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{free_port, require_tool, temp_dir, wait_tcp_listening, ChildGuard, LOCALHOST};

pub struct Nginx {
    _guard: ChildGuard,
    dir: tempfile::TempDir,
    pub addr: SocketAddr,
}

impl Nginx {
    /// Serves `root` (static files, with `Range`) on a free port.
    pub fn serve(root: &Path) -> Nginx {
        require_tool("nginx", "nginx-light");
        let dir = temp_dir("nginx");
        let port = free_port();
        let d = dir.path().display();
        let conf = format!(
            "daemon off; master_process off; worker_processes 1;\n\
             error_log {d}/error.log; pid {d}/nginx.pid;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
               access_log {d}/access.log;\n\
               client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
               server {{ listen 127.0.0.1:{port}; root {}; }}\n\
             }}\n",
            root.display()
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let mut cmd = Command::new("nginx");
        cmd.arg("-p").arg(dir.path()).arg("-c").arg(&path);
        let mut guard = ChildGuard::spawn("nginx", cmd);
        wait_tcp_listening(port, &mut guard, Duration::from_secs(10)).expect("nginx listening");
        let addr = SocketAddr::from((LOCALHOST, port));
        Nginx {
            _guard: guard,
            dir,
            addr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    /// The access log so far: one line per request.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}
