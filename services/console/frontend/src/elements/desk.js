// Element Plus components only the desk pages use (tables, descriptions, dialogs, timelines...), with their CSS and
// Leaflet's: loaded by the desk routes (router.js), so the grid worker's phone never downloads them.
import {
  ElBadge, ElButtonGroup, ElCollapse, ElCollapseItem, ElDescriptions, ElDescriptionsItem, ElDialog, ElDrawer,
  ElInputNumber, ElLoading, ElPagination, ElRate, ElSkeleton, ElTable, ElTableColumn, ElTimeline, ElTimelineItem,
} from 'element-plus';
import 'element-plus/es/components/badge/style/css';
import 'element-plus/es/components/button-group/style/css';
import 'element-plus/es/components/collapse/style/css';
import 'element-plus/es/components/collapse-item/style/css';
import 'element-plus/es/components/descriptions/style/css';
import 'element-plus/es/components/descriptions-item/style/css';
import 'element-plus/es/components/dialog/style/css';
import 'element-plus/es/components/drawer/style/css';
import 'element-plus/es/components/input-number/style/css';
import 'element-plus/es/components/loading/style/css';
import 'element-plus/es/components/pagination/style/css';
import 'element-plus/es/components/rate/style/css';
import 'element-plus/es/components/skeleton/style/css';
import 'element-plus/es/components/table/style/css';
import 'element-plus/es/components/table-column/style/css';
import 'element-plus/es/components/timeline/style/css';
import 'element-plus/es/components/timeline-item/style/css';
import 'leaflet/dist/leaflet.css';

/** Installs the desk components (and the v-loading directive) on the application. */
export function install(app) {
  for (const component of [ElBadge, ElButtonGroup, ElCollapse, ElCollapseItem, ElDescriptions, ElDescriptionsItem,
    ElDialog, ElDrawer, ElInputNumber, ElLoading, ElPagination, ElRate, ElSkeleton, ElTable, ElTableColumn,
    ElTimeline, ElTimelineItem]) app.use(component);
}
