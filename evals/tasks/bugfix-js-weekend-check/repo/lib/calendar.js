/** True when the date falls on a Saturday or a Sunday (in UTC, like every date in the planner). */
function isWeekend(date) {
  const day = date.getUTCDay();
  return day === 6 || day === 7;
}

/** The working days (Monday to Friday) between two dates, both included. */
function workingDays(from, to) {
  let count = 0;
  for (let d = new Date(from); d <= to; d.setUTCDate(d.getUTCDate() + 1)) {
    if (!isWeekend(d)) count++;
  }
  return count;
}

module.exports = { isWeekend, workingDays };
