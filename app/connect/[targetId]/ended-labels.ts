// How the browser names why a session ended, for the terminal and the desktop alike.
export const endedLabels: Record<string, string> = {
  user_closed: "Session closed",
  target_closed: "The target ended the session",
  terminated: "Session terminated",
  expired: "Session expired",
  error: "Could not connect",
  interrupted: "Session interrupted",
};
