const { isWeekend } = require('./calendar.js');

/** Weekend shifts pay the weekend rate. */
function shiftRate(date, baseRate) {
  return isWeekend(date) ? baseRate * 1.5 : baseRate;
}

module.exports = { shiftRate };
